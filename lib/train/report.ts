/** report.html: the learning curves as inline SVG, readable offline in any browser. */

/** One epoch's line of metrics.jsonl and point of report.html's curves. */
export interface EpochMetrics {
  /** The epoch, counted from 1. */
  epoch: number;
  /** The mean training loss per item over the epoch. */
  trainLoss: number;
  /** The share of training items classified right during the epoch (NaN when none were seen). */
  trainAccuracy: number;
  /** The mean test loss after the epoch. */
  testLoss: number;
  /** Test top-1 accuracy, in [0, 1]. */
  top1: number;
  /** Test top-5 accuracy, in [0, 1]. */
  top5: number;
  /** Wall-clock seconds of the epoch's training. */
  seconds: number;
  /** Training throughput. */
  imagesPerSecond: number;
}

function chart(title: string, series: { name: string; color: string; values: number[] }[], percent: boolean): string {
  const width = 520;
  const height = 280;
  const pad = { left: 56, right: 16, top: 32, bottom: 40 };
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const n = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => pad.left + (n <= 1 ? 0.5 : i / (n - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const label = (v: number) => (percent ? `${(v * 100).toFixed(1)}%` : v.toFixed(3));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const grid = ticks
    .map(
      (v) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>` +
        `<text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${label(v)}</text>`,
    )
    .join('');
  const epochs = Array.from(
    { length: n },
    (_, i) => `<text x="${x(i)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11">${i + 1}</text>`,
  ).join('');
  const lines = series
    .map((s, si) => {
      const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const dots = s.values.map((v, i) => `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${s.color}"/>`).join('');
      const legend =
        `<rect x="${pad.left + 10 + si * 130}" y="10" width="12" height="12" fill="${s.color}"/>` +
        `<text x="${pad.left + 26 + si * 130}" y="20" font-size="12">${s.name}</text>`;
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>${dots}${legend}`;
    })
    .join('');
  return (
    `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${title}">` +
    `${grid}${epochs}${lines}<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="12">epoch</text></svg>` +
    `<figcaption>${title}</figcaption></figure>`
  );
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** The page's head and title heading, shared by the image and text reports. */
function pageHead(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}figure{display:inline-block;margin:0 1rem 1rem 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}pre{background:#f6f6f6;padding:8px}</style>
</head><body><h1>${escape(title)}</h1>`;
}

/** report.html: the run's title, its configuration table and the loss and accuracy curves. */
export function renderReport(title: string, config: Record<string, unknown>, history: EpochMetrics[]): string {
  const rows = history
    .map(
      (m) =>
        `<tr><td>${m.epoch}</td><td>${m.trainLoss.toFixed(4)}</td><td>${(m.trainAccuracy * 100).toFixed(2)}%</td>` +
        `<td>${m.testLoss.toFixed(4)}</td><td>${(m.top1 * 100).toFixed(2)}%</td><td>${(m.top5 * 100).toFixed(2)}%</td>` +
        `<td>${m.seconds.toFixed(1)}</td><td>${Math.round(m.imagesPerSecond)}</td></tr>`,
    )
    .join('\n');
  return `${pageHead(title)}
${chart(
  'Loss',
  [
    { name: 'train loss', color: '#1f77b4', values: history.map((m) => m.trainLoss) },
    { name: 'test loss', color: '#d62728', values: history.map((m) => m.testLoss) },
  ],
  false,
)}
${chart(
  'Accuracy',
  [
    { name: 'train', color: '#1f77b4', values: history.map((m) => m.trainAccuracy) },
    { name: 'test top-1', color: '#d62728', values: history.map((m) => m.top1) },
    { name: 'test top-5', color: '#2ca02c', values: history.map((m) => m.top5) },
  ],
  true,
)}
<table><thead><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>test loss</th><th>top-1</th><th>top-5</th><th>seconds</th><th>images/s</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Configuration</h2><pre>${escape(JSON.stringify(config, null, 2))}</pre>
</body></html>
`;
}

/** One epoch's line of a text run's metrics.jsonl. */
export interface TextEpochMetrics {
  /** The epoch, counted from 1. */
  epoch: number;
  /** Mean training loss per target token over the epoch (nats). */
  trainLoss: number;
  /** Mean validation loss per target token after the epoch (nats). */
  validationLoss: number;
  /** Wall-clock seconds of the epoch's training. */
  seconds: number;
  /** Training throughput in target tokens. */
  tokensPerSecond: number;
}

/** report.html of a text run: the loss curves, an epoch table, the samples and the configuration. */
export function renderTextReport(
  title: string,
  config: Record<string, unknown>,
  history: TextEpochMetrics[],
  samples: string[],
): string {
  const rows = history
    .map(
      (m) =>
        `<tr><td>${m.epoch}</td><td>${m.trainLoss.toFixed(4)}</td><td>${m.validationLoss.toFixed(4)}</td>` +
        `<td>${m.seconds.toFixed(1)}</td><td>${Math.round(m.tokensPerSecond)}</td></tr>`,
    )
    .join('\n');
  return `${pageHead(title)}
${chart(
  'Loss (nats per token)',
  [
    { name: 'train loss', color: '#1f77b4', values: history.map((m) => m.trainLoss) },
    { name: 'validation loss', color: '#d62728', values: history.map((m) => m.validationLoss) },
  ],
  false,
)}
<table><thead><tr><th>epoch</th><th>train loss</th><th>validation loss</th><th>seconds</th><th>tokens/s</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Samples</h2><pre>${escape(samples.join('\n'))}</pre>
<h2>Configuration</h2><pre>${escape(JSON.stringify(config, null, 2))}</pre>
</body></html>
`;
}
