// `make serve`'s front door (worker/serve.mjs puts it on the serving port). Measured with
// `make bench-worker` and per-request CPU of workerd: Miniflare's entry worker costs ~0.3 ms and
// the platform's asset router ~0.5-2 ms per request before the worker runs (the router asks the
// asset worker whether a file exists, over RPC, on every request), while the worker answers
// GET /health in ~0.3 ms. So the API's own paths go straight to the worker, and every other path
// takes the platform's route (static assets first, then the worker), exactly as deployed.
//
// The API's paths are read once per isolate from the worker's own OpenAPI document (the route
// table's public face; a core test checks that every route is in it), so nothing here repeats
// them. Should that read fail, every request takes the platform's route: slower, still correct.
//
// Bindings: API (the worker itself, skipping the asset router), SITE (the worker behind the
// platform's asset routing).

let apiPaths;

/** The path of a request's absolute URL, without parsing the whole URL (this runs on every
 * request; a request URL has no fragment). */
function pathOf(url) {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  return url.slice(start, query < 0 ? url.length : query);
}

export default {
  async fetch(request, env) {
    apiPaths ??= env.API.fetch('http://serve.local/openapi.json')
      .then((r) => (r.ok ? r.json() : { paths: {} }))
      .then(
        (doc) => new Set(Object.keys(doc.paths ?? {})),
        () => new Set(),
      );
    const api = (await apiPaths).has(pathOf(request.url));
    return (api ? env.API : env.SITE).fetch(request);
  },
};
