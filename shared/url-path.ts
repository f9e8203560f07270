// Values in URL paths. A WHATWG URL parser (every browser, Node's fetch) takes a path segment that
// is `.` or `..`, also written `%2e`, `%2E` or `.%2e`, as a dot segment and collapses it: a request
// for `/licenses/x/activations/..` goes to `/licenses/x/`. encodeURIComponent leaves dots as they
// are, so an id that is `..` cannot be put in a path segment at all: send it as a query parameter.

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Whether a path (a query or fragment after it is not looked at) has a segment the URL parser would collapse. */
export function hasDotSegment(path: string): boolean {
  const pathname = path.split(/[?#]/, 1)[0]!;
  return pathname.split('/').some((segment) => DOT_SEGMENT.test(segment));
}
