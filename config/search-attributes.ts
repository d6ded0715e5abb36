/**
 * Custom search attributes Flywheel's workflows set, so runs can be found in the Temporal UI
 * (`FlywheelModel = "iris"`, `FlywheelStage = "evaluate"`). The stack registers each at start.
 * Pure: imported by workflows as well as by the stack scripts.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const MODEL_NAME = defineSearchAttributeKey('FlywheelModel', SearchAttributeType.KEYWORD);
export const PIPELINE_STAGE = defineSearchAttributeKey('FlywheelStage', SearchAttributeType.KEYWORD);
export const DATASET_DIGEST = defineSearchAttributeKey('FlywheelDatasetDigest', SearchAttributeType.KEYWORD);

/** What a training pipeline or search is found by from the moment it is started (stage `queued`). */
export function queuedRunAttributes(model: string, datasetDigest: string): SearchAttributePair[] {
  return [
    { key: MODEL_NAME, value: model },
    { key: PIPELINE_STAGE, value: 'queued' },
    { key: DATASET_DIGEST, value: datasetDigest },
  ];
}

/** `temporal server start-dev --search-attribute NAME=TYPE` arguments. */
export const SEARCH_ATTRIBUTE_FLAGS: ReadonlyArray<string> = [
  'FlywheelModel=Keyword',
  'FlywheelStage=Keyword',
  'FlywheelDatasetDigest=Keyword',
];
