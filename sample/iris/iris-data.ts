import { readFileSync } from 'node:fs';

/** The three iris species, in the order of the model's output columns. */
export const IRIS_SPECIES = ['setosa', 'versicolor', 'virginica'] as const;

/** One flower: four measurements in cm, and its species as a class index. */
export interface IrisSample {
  features: [number, number, number, number];
  label: number;
}

/** Reads the iris CSV (sepal length, sepal width, petal length, petal width, species). */
export function readIrisCsv(path: string): IrisSample[] {
  const [, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  return lines.map((line, row) => {
    const cells = line.split(',');
    const label = IRIS_SPECIES.indexOf(cells[4] as (typeof IRIS_SPECIES)[number]);
    if (cells.length !== 5 || label < 0)
      throw new Error(`${path}:${row + 2}: expected 4 numbers and a species, got '${line}'`);
    return { features: cells.slice(0, 4).map(Number) as IrisSample['features'], label };
  });
}
