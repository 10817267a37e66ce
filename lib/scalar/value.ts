/**
 * The scalar autograd engine: one number per node. Each op builds its output and, right beside it,
 * the closure that pushes the output's gradient to its inputs (the local derivative times the
 * upstream gradient). Gradients accumulate with +=, which is what makes a value used twice correct.
 */

export type ValueLike = Value | number;

export class Value {
  data: number;
  grad = 0;
  readonly children: readonly Value[];
  readonly op: string;
  private backwardStep: () => void = () => {};

  constructor(data: number, children: readonly Value[] = [], op = '') {
    this.data = data;
    this.children = children;
    this.op = op;
  }

  private static of(x: ValueLike): Value {
    return x instanceof Value ? x : new Value(x);
  }

  add(other: ValueLike): Value {
    const o = Value.of(other);
    const out = new Value(this.data + o.data, [this, o], '+');
    out.backwardStep = () => {
      this.grad += out.grad;
      o.grad += out.grad;
    };
    return out;
  }

  mul(other: ValueLike): Value {
    const o = Value.of(other);
    const out = new Value(this.data * o.data, [this, o], '*');
    out.backwardStep = () => {
      this.grad += o.data * out.grad;
      o.grad += this.data * out.grad;
    };
    return out;
  }

  /** this ** exponent; the exponent may be a number or a Value (then it gets a gradient too). */
  pow(exponent: ValueLike): Value {
    const e = Value.of(exponent);
    const out = new Value(this.data ** e.data, [this, e], '**');
    out.backwardStep = () => {
      this.grad += e.data * this.data ** (e.data - 1) * out.grad;
      e.grad += out.data * Math.log(this.data) * out.grad;
    };
    return out;
  }

  exp(): Value {
    const out = new Value(Math.exp(this.data), [this], 'exp');
    out.backwardStep = () => {
      this.grad += out.data * out.grad;
    };
    return out;
  }

  log(): Value {
    const out = new Value(Math.log(this.data), [this], 'log');
    out.backwardStep = () => {
      this.grad += (1 / this.data) * out.grad;
    };
    return out;
  }

  tanh(): Value {
    const out = new Value(Math.tanh(this.data), [this], 'tanh');
    out.backwardStep = () => {
      this.grad += (1 - out.data ** 2) * out.grad;
    };
    return out;
  }

  sigmoid(): Value {
    const s = this.data >= 0 ? 1 / (1 + Math.exp(-this.data)) : Math.exp(this.data) / (1 + Math.exp(this.data));
    const out = new Value(s, [this], 'sigmoid');
    out.backwardStep = () => {
      this.grad += out.data * (1 - out.data) * out.grad;
    };
    return out;
  }

  relu(): Value {
    const out = new Value(this.data > 0 ? this.data : 0, [this], 'relu');
    out.backwardStep = () => {
      this.grad += (out.data > 0 ? 1 : 0) * out.grad;
    };
    return out;
  }

  // Derived ops: compositions of the primitives above, so they need no backward of their own.
  neg(): Value {
    return this.mul(-1);
  }
  sub(other: ValueLike): Value {
    return this.add(Value.of(other).neg());
  }
  div(other: ValueLike): Value {
    return this.mul(Value.of(other).pow(-1));
  }

  /** Sets every gradient in the graph by reverse topological order; this value's grad is 1. */
  backward(): void {
    const order: Value[] = [];
    const visited = new Set<Value>();
    const visit = (v: Value): void => {
      if (visited.has(v)) return;
      visited.add(v);
      for (const child of v.children) visit(child);
      order.push(v);
    };
    visit(this);
    this.grad = 1;
    for (let i = order.length - 1; i >= 0; i--) order[i].backwardStep();
  }

  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}
