import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer, BodyOf } from '../../api/types';
import { canonical } from './json';
import type { ObjectKind, ScreenId } from './kinds';

/** A configuration object as the configuration API answers it. */
export type ConfigObject = Answer<'/api/v1/host-templates/{name}'>;

/** An object with what it inherits and where each value comes from (and a host's services). */
export type Resolved = Answer<'/api/v1/config/preview', 'post'>;

/** The object a preview, a create or a replace sends. */
export type Draft = BodyOf<'/api/v1/config/preview', 'post'>['object'];

/** The query keys of the configuration screens: one per endpoint. */
export const configKeys = {
  list: (screen: ScreenId) => ['config', screen] as const,
  item: (screen: ScreenId, name: string, host: string | null) =>
    ['config', screen, name, host ?? ''] as const,
  preview: (kind: ObjectKind, draft: Draft) =>
    ['config', 'preview', kind, canonical(draft)] as const,
  host: (id: string) => ['hosts', id, 'config'] as const,
};

// The five collections (`/api/v1/host-templates`, `service-templates`, `services`, `commands`,
// `host-groups`) share one set of schemas (the same object, list and bodies; services alone take
// `?host=`, which the others ignore), so the services' typed paths stand for all of them here.
type Collection = '/api/v1/services';
type Item = '/api/v1/services/{name}';
const collection = (screen: ScreenId) => `/api/v1/${screen}` as Collection;
const item = (screen: ScreenId) => `/api/v1/${screen}/{name}` as Item;
/** The item's parameters: its name and, for a service, its host. */
const params = (name: string, host: string | null) => ({
  path: { name },
  query: host ? { host } : {},
});

/** Every object of a screen's collection. */
export function useObjects(screen: ScreenId, enabled = true) {
  return useQuery({
    queryKey: configKeys.list(screen),
    enabled,
    queryFn: () => unwrap(api.GET(collection(screen))).then((a) => a.items),
  });
}

/** One object (`null` name: none, for a new one). */
export function useObject(screen: ScreenId, name: string | null, host: string | null) {
  return useQuery({
    queryKey: configKeys.item(screen, name ?? '', host),
    enabled: name !== null,
    queryFn: () => unwrap(api.GET(item(screen), { params: params(name!, host) })),
  });
}

/** Creates an object in a screen's collection. */
export const createObject = (screen: ScreenId, body: Draft & { object_name: string }) =>
  unwrap(api.POST(collection(screen), { body }));

/** Replaces an object (its name and type stay). */
export const replaceObject = (screen: ScreenId, name: string, host: string | null, body: Draft) =>
  unwrap(api.PUT(item(screen), { params: params(name, host), body }));

/** Deletes an object. */
export const deleteObject = (screen: ScreenId, name: string, host: string | null) =>
  unwrap(api.DELETE(item(screen), { params: params(name, host) }));

/** `value`, once it has stayed the same for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/**
 * The inheritance preview of an unsaved object (`POST /api/v1/config/preview`), asked again
 * 400 ms after the last change; the previous answer stays on screen meanwhile.
 */
export function usePreview(kind: ObjectKind, draft: Draft) {
  // An object not named yet (or a service without its host) is previewed all the same.
  const { object_name, host, ...rest } = useDebounced(draft, 400);
  const settled: Draft = {
    ...rest,
    ...(object_name?.trim() ? { object_name: object_name.trim() } : {}),
    ...(host ? { host } : {}),
  };
  return useQuery({
    queryKey: configKeys.preview(kind, settled),
    queryFn: () => unwrap(api.POST('/api/v1/config/preview', { body: { kind, object: settled } })),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 30_000,
  });
}
