/** What the ops take: a Value, or a number (wrapped as a constant Value). */
export type ValueLike = Value | number;

/**
 * The scalar autograd engine (micrograd's Value): one number per node. Each op builds its output
 * and, right beside it, the closure that pushes the output's gradient to its inputs (the local
 * derivative times the upstream gradient). Gradients accumulate with +=, which is what makes a
 * value used twice correct.
 *
 * @example
 * ```ts
 * const a = new ng.scalar.Value(2), b = new ng.scalar.Value(-3);
 * const c = a.mul(b).add(a.tanh());
 * c.backward(); // a.grad = b + (1 - tanh²a), b.grad = a
 * ```
 */
export class Value {
  /** The number this node holds. */
  data: number;
  /** d(the value backward() was called on) / d(this), set by backward(). */
  grad = 0;
  /** The inputs of the op that made this value (none for a leaf). */
  readonly children: readonly Value[];
  /** The op that made this value ('+', '*', 'tanh', ...; '' for a leaf). */
  readonly op: string;
  private backwardStep: () => void = () => {};

  /**
   * @param data - The number.
   * @param children - The op's inputs (ops pass them; a leaf has none).
   * @param op - The op's name, for display.
   */
  constructor(data: number, children: readonly Value[] = [], op = '') {
    this.data = data;
    this.children = children;
    this.op = op;
  }

  private static of(x: ValueLike): Value {
    return x instanceof Value ? x : new Value(x);
  }

  /** this + other; both get the upstream gradient. */
  add(other: ValueLike): Value {
    const o = Value.of(other);
    const out = new Value(this.data + o.data, [this, o], '+');
    out.backwardStep = () => {
      this.grad += out.grad;
      o.grad += out.grad;
    };
    return out;
  }

  /** this · other; each gets the other's value times the upstream gradient. */
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

  /** e^this; its derivative is its own output. */
  exp(): Value {
    const out = new Value(Math.exp(this.data), [this], 'exp');
    out.backwardStep = () => {
      this.grad += out.data * out.grad;
    };
    return out;
  }

  /** ln(this); derivative 1 / this. */
  log(): Value {
    const out = new Value(Math.log(this.data), [this], 'log');
    out.backwardStep = () => {
      this.grad += (1 / this.data) * out.grad;
    };
    return out;
  }

  /** tanh(this); derivative 1 − tanh². */
  tanh(): Value {
    const out = new Value(Math.tanh(this.data), [this], 'tanh');
    out.backwardStep = () => {
      this.grad += (1 - out.data ** 2) * out.grad;
    };
    return out;
  }

  /** σ(this) = 1 / (1 + e^−this), computed without overflow; derivative σ·(1 − σ). */
  sigmoid(): Value {
    const s = this.data >= 0 ? 1 / (1 + Math.exp(-this.data)) : Math.exp(this.data) / (1 + Math.exp(this.data));
    const out = new Value(s, [this], 'sigmoid');
    out.backwardStep = () => {
      this.grad += out.data * (1 - out.data) * out.grad;
    };
    return out;
  }

  /** max(0, this); derivative 1 where positive, else 0. */
  relu(): Value {
    const out = new Value(this.data > 0 ? this.data : 0, [this], 'relu');
    out.backwardStep = () => {
      this.grad += (out.data > 0 ? 1 : 0) * out.grad;
    };
    return out;
  }

  // Derived ops: compositions of the primitives above, so they need no backward of their own.
  /** −this, as this · −1. */
  neg(): Value {
    return this.mul(-1);
  }
  /** this − other, as this + (−other). */
  sub(other: ValueLike): Value {
    return this.add(Value.of(other).neg());
  }
  /** this / other, as this · other^−1. */
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

  /** `Value(data=..., grad=...)`, as micrograd prints it. */
  toString(): string {
    return `Value(data=${this.data}, grad=${this.grad})`;
  }
}
