/**
 * The one module that imports tfjs. Everything else imports `tf` from here, so exactly one copy of
 * tfjs-core is loaded and gradients/CPU kernels are always registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers registers all of them on load.
import '@tensorflow/tfjs-layers';

// PROD silences tfjs' console banners (e.g. the cpu backend's "install tfjs-node" notice): we log the
// chosen backend ourselves.
tf.env().set('PROD', true);

export { tf };
export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Scalar,
  Variable,
} from '@tensorflow/tfjs-core';
