/**
 * Built-in datasets: real public data that ships inside packages this project already installs,
 * read from local disk (no download at install or run time). Source and licence are in README.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/index';

export interface BuiltinDataset {
  name: string;
  description: string;
  source: string;
  licence: string;
  labelColumn: string;
  /** Absolute path of the file, resolved lazily so a missing package gives a clear message. */
  locate(): string;
  format: 'sklearn-csv' | 'vega-json';
  featureColumns: string[];
  /** For vega-json: drop records whose feature cells are missing (the raw variant keeps them). */
  dropIncomplete?: boolean;
}

const require = createRequire(import.meta.url);

/** vega-datasets exports only its JS entry (build/index.js); its data folder sits beside build/. */
function vegaFile(file: string): () => string {
  return () => path.join(path.dirname(require.resolve('vega-datasets')), '..', 'data', file);
}

/** scikit-learn ships these CSVs inside the project venv (installed by scripts/setup.sh alongside MLflow). */
function sklearnFile(file: string): () => string {
  return () => {
    const lib = path.join(PROJECT_ROOT, '.venv', 'lib');
    const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python')) : undefined;
    const p = py ? path.join(lib, py, 'site-packages', 'sklearn', 'datasets', 'data', file) : '';
    if (!p || !existsSync(p)) {
      throw new Error(`built-in dataset file ${file} not found: run \`bash scripts/setup.sh\` to install scikit-learn into .venv`);
    }
    return p;
  };
}

const PENGUIN_FEATURES = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

const CELL_NUCLEUS_MEASURES = [
  'radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity', 'concave points', 'symmetry', 'fractal dimension',
];
/** scikit-learn's column order: 10 means, then 10 standard errors, then 10 worst values. */
const BREAST_CANCER_FEATURES = [
  ...CELL_NUCLEUS_MEASURES.map((f) => `mean ${f}`),
  ...CELL_NUCLEUS_MEASURES.map((f) => `${f} error`),
  ...CELL_NUCLEUS_MEASURES.map((f) => `worst ${f}`),
];

export const BUILTIN_DATASETS: Record<string, BuiltinDataset> = {
  penguins: {
    name: 'penguins',
    description: 'Palmer penguins: 342 birds, 4 body measurements, 3 species (rows with missing measurements dropped)',
    source: 'Palmer Station LTER / palmerpenguins, as packaged by the npm package vega-datasets',
    licence: 'data CC0 1.0; package BSD-3-Clause',
    labelColumn: 'Species',
    featureColumns: PENGUIN_FEATURES,
    format: 'vega-json',
    dropIncomplete: true,
    locate: vegaFile('penguins.json'),
  },
  'penguins-raw': {
    name: 'penguins-raw',
    description: 'Palmer penguins as published, including the rows with missing measurements (fails validation by design)',
    source: 'Palmer Station LTER / palmerpenguins, as packaged by the npm package vega-datasets',
    licence: 'data CC0 1.0; package BSD-3-Clause',
    labelColumn: 'Species',
    featureColumns: PENGUIN_FEATURES,
    format: 'vega-json',
    locate: vegaFile('penguins.json'),
  },
  iris: {
    name: 'iris',
    description: "Fisher's iris: 150 flowers, 4 measurements, 3 species",
    source: 'UCI Machine Learning Repository, as shipped in scikit-learn (sklearn/datasets/data/iris.csv)',
    licence: 'data CC BY 4.0; package BSD-3-Clause',
    labelColumn: 'species',
    featureColumns: ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'],
    format: 'sklearn-csv',
    locate: sklearnFile('iris.csv'),
  },
  'breast-cancer': {
    name: 'breast-cancer',
    description: 'Wisconsin diagnostic breast cancer: 569 tumours, 30 features, benign/malignant',
    source: 'UCI Machine Learning Repository, as shipped in scikit-learn (sklearn/datasets/data/breast_cancer.csv)',
    licence: 'data CC BY 4.0; package BSD-3-Clause',
    labelColumn: 'diagnosis',
    featureColumns: BREAST_CANCER_FEATURES,
    format: 'sklearn-csv',
    locate: sklearnFile('breast_cancer.csv'),
  },
  wine: {
    name: 'wine',
    description: 'Wine recognition: 178 wines, 13 chemical measurements, 3 cultivars',
    source: 'UCI Machine Learning Repository, as shipped in scikit-learn (sklearn/datasets/data/wine_data.csv)',
    licence: 'data CC BY 4.0; package BSD-3-Clause',
    labelColumn: 'cultivar',
    featureColumns: [
      'alcohol', 'malic_acid', 'ash', 'alcalinity_of_ash', 'magnesium', 'total_phenols', 'flavanoids',
      'nonflavanoid_phenols', 'proanthocyanins', 'color_intensity', 'hue', 'od280/od315_of_diluted_wines', 'proline',
    ],
    format: 'sklearn-csv',
    locate: sklearnFile('wine_data.csv'),
  },
};

export const BUILTIN_NAMES: readonly string[] = Object.keys(BUILTIN_DATASETS);
