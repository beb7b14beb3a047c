import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { quote, writeFileAtomic } from '../io/index.js';
import { LayerError } from './errors.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * A tfjs IOHandler that saves a model to a folder on disk and loads it back, in the layout of
 * tfjs's own `file://` handler (`model.json` + `weights.bin`), without `@tensorflow/tfjs-node`:
 *
 * ```ts
 * await model.save(fileIO('out/model'));
 * const again = await loadLayersModel(fileIO('out/model'));   // or 'out/model/model.json'
 * ```
 *
 * Saving creates the folder if needed and writes both files atomically (temp file, then rename),
 * weights first, so a reader never sees a `model.json` whose weights are missing. Loading takes
 * the folder or the path of a `model.json`; weight files are read from the paths its manifest
 * lists, relative to it.
 *
 * @param path  folder (save, load) or `model.json` path (load)
 */
export function fileIO(path: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
        throw new LayerError(`${path}: fileIO saves Layers models (a JSON topology), not weights alone or binary graphs`);
      }
      const folder = path.endsWith('.json') ? dirname(path) : path;
      const existing = await stat(folder).catch(() => null);
      if (existing && !existing.isDirectory()) throw new LayerError(`${folder}: is a file; model.save(fileIO(...)) needs a folder`);
      await mkdir(folder, { recursive: true }).catch((e: Error) => {
        throw new LayerError(`${folder}: cannot create the model folder: ${e.message}`);
      });
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }];
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        weightsManifest: manifest,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
      };
      await writeFileAtomic(join(folder, WEIGHTS_BIN), new Uint8Array(weights));
      await writeFileAtomic(join(folder, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    load: async () => {
      const info = await stat(path).catch(() => null);
      if (!info) throw new LayerError(`${path}: no such file or folder; give the folder model.save wrote, or its model.json`);
      const jsonPath = info.isDirectory() ? join(path, MODEL_JSON) : path;
      const text = await readFile(jsonPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new LayerError(`${jsonPath}: cannot read the model (${e.code ?? e.message}); give the folder model.save wrote, or its model.json`);
      });
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new LayerError(`${jsonPath}: not JSON (${(e as Error).message}); starts with ${quote(text.slice(0, 40))}`);
      }
      if (typeof json !== 'object' || json === null || json.modelTopology === undefined) {
        throw new LayerError(`${jsonPath}: not a tfjs model.json (no modelTopology)`);
      }
      const base = dirname(resolve(jsonPath));
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const file = join(base, p);
            const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
              throw new LayerError(`${file}: cannot read the weights listed in ${jsonPath} (${e.code ?? e.message})`);
            });
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}
