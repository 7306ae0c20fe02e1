import type { paths } from './schema';

type Ok<R> = R extends { 200: infer A } ? A : R extends { 201: infer A } ? A : never;
type JsonOf<A> = A extends { content: { 'application/json': infer J } } ? J : never;

/**
 * The JSON body of a path's success answer, from the generated OpenAPI types:
 * `Answer<'/api/v1/auth/me'>` (GET) or `Answer<'/api/v1/users', 'post'>`.
 */
export type Answer<
  P extends keyof paths,
  M extends keyof paths[P] & ('get' | 'post' | 'put' | 'patch' | 'delete') = 'get' & keyof paths[P],
> = paths[P][M] extends { responses: infer R } ? JsonOf<Ok<R>> : never;

/** The JSON request body of a path's operation. */
export type BodyOf<
  P extends keyof paths,
  M extends keyof paths[P] & ('post' | 'put' | 'patch'),
> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
