/** nn.Embedding, standing in for PyTorch's until nodegrad ships it: a lookup table of N(0, 1) rows. */
import * as ng from 'nodegrad';

const { nn } = ng;

export class Embedding extends nn.Module {
  weight: ng.nn.Parameter;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
  ) {
    super();
    this.weight = new nn.Parameter(ng.randn([numEmbeddings, embeddingDim]));
  }

  /** int32 indices of any shape → [...shape, embeddingDim]; the gradient adds into the rows used. */
  forward(indices: ng.Tensor): ng.Tensor {
    return this.weight.indexSelect(0, indices.flatten()).view([...indices.shape, this.embeddingDim]);
  }
}
