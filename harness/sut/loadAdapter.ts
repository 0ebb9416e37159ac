import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ADAPTER_API_VERSION, type AdapterFactory } from './adapterApi';

/** A loaded adapter module. */
export type LoadedAdapter = { readonly factory: AdapterFactory; readonly source: string };

/** An adapter module that cannot be used, with what to do about it. */
export class AdapterLoadError extends Error {
  override readonly name = 'AdapterLoadError';
  readonly hint: string;
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.hint = hint;
  }
}

/**
 * Loads an in-process adapter module (docs/adapter-api.md): ESM or CommonJS, whose default
 * export is the factory. A module may export `apiVersion`; a version other than this harness's
 * is refused.
 */
export async function loadAdapterModule(file: string, cwd = process.cwd()): Promise<LoadedAdapter> {
  const full = path.resolve(cwd, file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AdapterLoadError(`cannot load adapter module ${full}: ${(error as Error).message}`, 'check the path, and that the module and its dependencies load with node', { cause: error });
  }
  const inner = mod['default'];
  const factory = typeof inner === 'function' ? inner : typeof (inner as Record<string, unknown> | undefined)?.['default'] === 'function' ? (inner as Record<string, unknown>)['default'] : undefined;
  const version = mod['apiVersion'] ?? (inner as Record<string, unknown> | undefined)?.['apiVersion'];
  if (version !== undefined && version !== ADAPTER_API_VERSION) {
    throw new AdapterLoadError(`adapter module ${full} was written for adapter API version ${String(version)}; this xvc speaks version ${ADAPTER_API_VERSION}`, 'update the adapter to the API in docs/adapter-api.md');
  }
  if (typeof factory !== 'function') {
    throw new AdapterLoadError(`adapter module ${full} has no default export function`, 'export default (host) => ({ name, version, privateFrames, hypercall, interrupt, returnToGuest })');
  }
  return { factory: checked(factory as AdapterFactory, full), source: full };
}

/** Wraps a factory so that an adapter missing a member is reported clearly when it is created. */
function checked(factory: AdapterFactory, source: string): AdapterFactory {
  return (host) => {
    const adapter = factory(host);
    const missing = ['name', 'version', 'privateFrames', 'hypercall', 'interrupt', 'returnToGuest'].filter((k) => (adapter as unknown as Record<string, unknown>)?.[k] === undefined);
    if (missing.length > 0) throw new AdapterLoadError(`the adapter from ${source} lacks ${missing.join(', ')}`, 'see the Adapter interface in docs/adapter-api.md');
    return adapter;
  };
}
