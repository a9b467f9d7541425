import { Injectable } from '@nestjs/common';
import { Input, Model, Tensor } from '../../lib/index.js';
import { InjectOnnxModel, OnnxModel } from '../../lib/runtimes/onnx/index.js';

/** The iris classifier: class probabilities (setosa, versicolor, virginica) for each row of measurements. */
@Injectable()
export class IrisModels {
  constructor(@InjectOnnxModel('iris') private readonly classifier: OnnxModel) {}

  @Model('iris', {
    returns: Tensor.of('float32', ['batch', 3]),
    description: 'Iris species probabilities (setosa, versicolor, virginica) for [batch, 4] measurements in cm.',
  })
  async iris(@Input('features', Tensor.of('float32', ['batch', 4])) features: Tensor): Promise<Tensor> {
    const [probabilities] = await this.classifier.predict(features);
    return probabilities;
  }
}
