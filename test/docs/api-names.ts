/**
 * The nodegrad API a program calls, read from its source: the members it reaches through the
 * namespaces (`ng.cat`, `nn.Linear`, `F.relu`, `optim.Adam`, `nn.init.normal_`) and the members of
 * tensors, modules, optimizers, schedulers, datasets and loaders it uses (`x.index(...)`,
 * `model.parameters()`, `loader.length`). The coming-from-PyTorch test asks the guide for each.
 */
import * as ng from '../../lib/index.js';

// A member of these is JavaScript's own (Math.sqrt, console.log), not nodegrad's.
const builtinReceivers = new Set([
  'Math',
  'console',
  'JSON',
  'Number',
  'Object',
  'Array',
  'process',
  'Promise',
  'String',
]);

function membersOf(...objects: object[]): Set<string> {
  const names = new Set<string>();
  for (const object of objects) {
    for (let p: object | null = object; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      for (const name of Object.getOwnPropertyNames(p)) names.add(name);
    }
  }
  for (const name of ['constructor', 'toString', 'length', 'name', 'prototype']) names.delete(name);
  return new Set([...names].filter((name) => !name.startsWith('_') && !name.startsWith('#')));
}

/** Members of instances of the classes a program works with (prototype chains and own fields). */
export function instanceMembers(): Set<string> {
  const x = ng.zeros([2, 1]);
  const linear = new ng.nn.Linear(1, 1);
  const optimizer = new ng.optim.SGD(linear.parameters(), { lr: 0.1 });
  const dataset = new ng.data.TensorDataset(x);
  const members = membersOf(
    x,
    linear,
    optimizer,
    new ng.optim.lrScheduler.StepLR(optimizer, { stepSize: 1 }),
    dataset,
    new ng.data.DataLoader(dataset, { batchSize: 1 }),
    new ng.nn.ModuleList(),
    new ng.nn.ModuleDict(),
  );
  // `length` is removed above as a function's own property; datasets and loaders define it as a getter.
  members.add('length');
  return members;
}

const namespaceChain = /(?<![\w.$])(ng|nn|F|optim)((?:\.\w+)+)/g;
const memberAccess = /(?<!\.)\.\s*([A-Za-z_$][\w$]*)/g;

/** The nodegrad names `source` uses, each once. */
export function apiNamesIn(source: string, members: Set<string>): Set<string> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names = new Set<string>();
  for (const match of code.matchAll(namespaceChain)) {
    const segments = match[2].slice(1).split('.');
    names.add(segments[segments.length - 1]);
  }
  for (const match of code.matchAll(memberAccess)) {
    const name = match[1];
    const receiver = /([\w$]+)\s*\??$/.exec(code.slice(0, match.index))?.[1] ?? '';
    if (builtinReceivers.has(receiver) || ['ng', 'nn', 'F', 'optim'].includes(receiver)) continue;
    if (members.has(name)) names.add(name);
  }
  // `import * as ng` and `ng.nn` name namespaces, not API entries a reader looks up.
  names.delete('nn');
  return names;
}
