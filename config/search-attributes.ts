/**
 * Custom search attributes Flywheel's workflows set, so runs can be found in the Temporal UI
 * (`FlywheelModel = "iris"`, `FlywheelStage = "evaluate"`). The stack registers each at start.
 * Pure: imported by workflows as well as by the stack scripts.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const MODEL_NAME = defineSearchAttributeKey('FlywheelModel', SearchAttributeType.KEYWORD);
export const PIPELINE_STAGE = defineSearchAttributeKey('FlywheelStage', SearchAttributeType.KEYWORD);
export const DATASET_DIGEST = defineSearchAttributeKey('FlywheelDatasetDigest', SearchAttributeType.KEYWORD);

/** `temporal server start-dev --search-attribute NAME=TYPE` arguments. */
export const SEARCH_ATTRIBUTE_FLAGS: ReadonlyArray<string> = [
  'FlywheelModel=Keyword',
  'FlywheelStage=Keyword',
  'FlywheelDatasetDigest=Keyword',
];
