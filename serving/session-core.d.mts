import type { InferenceSession } from 'onnxruntime-node';
import type { IoMetadata } from './model-check';

export declare const SESSION_OPTIONS: InferenceSession.SessionOptions;
export declare function metadataOf(list: readonly InferenceSession.ValueMetadata[]): IoMetadata[];
export declare function runSession(session: InferenceSession, data: Float32Array, rows: number, cols: number): Promise<{ probabilities: Float32Array; labels: Int32Array; computeMs: number }>;
