/** dynalite is optional: loaded only when the embedded store starts, with a clear error when absent. */
import { EMBEDDED_STORE_MISSING, loadDynalite } from '../../src/store/embedded';

const notFound = (id: string) => Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/dist/src/store/embedded.js`), { code: 'MODULE_NOT_FOUND' });

it('says to set JIT_DYNAMODB_TABLE or install the optional dependencies when dynalite is not installed', () => {
  expect(() =>
    loadDynalite(() => {
      throw notFound('dynalite');
    }),
  ).toThrow(EMBEDDED_STORE_MISSING);
  expect(EMBEDDED_STORE_MISSING).toMatch(/the embedded store \(dynalite\) is not installed in this image: set JIT_DYNAMODB_TABLE/);
});

it('keeps the original error when dynalite is there but one of its own dependencies is missing', () => {
  const nested = notFound('classic-level');
  expect(() =>
    loadDynalite(() => {
      throw nested;
    }),
  ).toThrow(nested);
});

it('loads dynalite when it is installed (the dev install)', () => {
  expect(typeof loadDynalite()).toBe('function');
});
