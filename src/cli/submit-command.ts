/** `cctfer submit`: ABAW expression-challenge submission files, and their validator. */
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { parseSmoothing } from '../stream/smoothing-spec.ts';
import { parseBackendName } from '../engine/backend-name.ts';
import { cliFfmpeg, offlineSmoothingOption, withModelOptions } from './options.ts';

export function submitCommand(): Command {
  return withModelOptions(
    new Command('submit').description(
      'write ABAW expression submissions (one <entry>.txt per test entry, or one CSV), or --check a submission directory',
    ),
  )
    .option(
      '--videos <dir>',
      'directory of the test videos (<video>.<ext>; X_left/X_right use X.<ext>)',
    )
    .option(
      '--list <file|dir>',
      'test-set entries: a file with one name per line, or a directory of <name>.txt files',
    )
    .option('-o, --out <dir>', 'output directory')
    .addOption(
      new Option(
        '--format <format>',
        "'txt': one file per entry (2021); 'csv': one predictions.csv (image_location,…)",
      )
        .choices(['txt', 'csv'])
        .default('txt'),
    )
    .option(
      '--frames <dir>',
      "use the organisers' cropped_aligned/<entry>/NNNNN.jpg crops instead of decoding and detecting",
    )
    .option(
      '--check <dir>',
      'validate the .txt files in <dir> (header, labels 0..6, one line per decoded frame with --videos)',
    )
    .addOption(offlineSmoothingOption())
    .option('--force', 'rewrite entries whose file exists', false)
    .addHelpText(
      'after',
      `
Each <entry>.txt has the header Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise and then exactly
one label (0..6) per decoded frame of the video. X_left / X_right entries pick the face by horizontal
position; other entries take the largest face. Frames where the entry's face was not found get the
label of the nearest frame where it was (the earlier one on a tie); a video with no face at all is
Neutral (0) throughout.`,
    )
    .action(async (opts) => {
      const { checkSubmission, submit } = await import('../../pipelines/submit.ts');
      const { initBackend } = await import('../engine/backend.ts');
      const o = opts as {
        videos?: string;
        list?: string;
        out?: string;
        format: 'txt' | 'csv';
        frames?: string;
        check?: string;
        bundle?: string;
        engine: 'onnx' | 'tfjs';
        backend: ReturnType<typeof parseBackendName>;
        threads: number;
        smoothing: ReturnType<typeof parseSmoothing>;
        force: boolean;
      };
      const ffmpeg = cliFfmpeg();
      if (o.check) {
        const report = await checkSubmission(o.check, {
          ...(o.videos && { videosDir: o.videos }),
          ...(o.list && { list: o.list }),
          ffmpeg,
        });
        for (const p of report.problems) console.log(p);
        console.log(
          report.problems.length
            ? `✗ ${report.problems.length} problem(s) in ${report.files} file(s)`
            : `✓ ${report.files} file(s) valid${o.videos ? ' (line counts = decoded frame counts)' : ' (line counts not checked: give --videos)'}`,
        );
        if (report.problems.length) process.exitCode = 1;
        return;
      }
      if (!o.list || !o.out) throw new Error('submit needs --list and --out (or --check <dir>)');
      if (o.engine === 'tfjs') await initBackend({ backend: o.backend, log: console.error });
      const bar = new cliProgress.SingleBar(
        { format: '{name} |{bar}| {value} frames | {entries} entries done', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      const show = process.stderr.isTTY;
      let entries = 0;
      let started = false;
      const results = await submit({
        ...(o.videos && { videosDir: o.videos }),
        list: o.list,
        out: o.out,
        format: o.format,
        ...(o.frames && { framesRoot: o.frames }),
        ...(o.bundle && { bundle: o.bundle }),
        engine: o.engine,
        threads: o.threads,
        smoothing: o.smoothing,
        force: o.force,
        ffmpeg,
        onProgress: (name, done, total) => {
          if (!show) return;
          if (!started) bar.start(total ?? 0, 0, { name, entries });
          started = true;
          if (total !== undefined) bar.setTotal(total);
          bar.update(done, { name, entries });
        },
        onEntry: (r) => {
          entries++;
          const line =
            r.status === 'failed'
              ? `✗ ${r.name}: ${r.error}`
              : r.status === 'skipped'
                ? `= ${r.name}: exists (--force to rewrite)`
                : `✓ ${r.name}: ${r.frames} frames (${r.filled} without the face, given the nearest label)`;
          if (show && started) {
            bar.stop();
            started = false;
          }
          console.error(line);
        },
      });
      if (started) bar.stop();
      const failed = results.filter((r) => r.status === 'failed').length;
      console.log(
        `${results.length - failed} of ${results.length} entries written to ${o.out} (${o.format})`,
      );
      if (failed) process.exitCode = 1;
    });
}
