// Types for `proxy-addr` (express's own dependency, used for the client address behind proxies);
// the subset this server calls.
declare module 'proxy-addr' {
  type TrustFn = (addr: string, hop: number) => boolean;
  interface RequestLike {
    headers: Record<string, string | string[] | undefined>;
    socket?: { remoteAddress?: string };
    connection?: { remoteAddress?: string };
  }
  /** The client address: the closest one in X-Forwarded-For that is not trusted (or the socket's). */
  function proxyaddr(req: RequestLike, trust: TrustFn | string | string[]): string;
  namespace proxyaddr {
    /** Every address from the socket's back to the first untrusted one. */
    function all(req: RequestLike, trust?: TrustFn | string | string[]): string[];
    /** Compiles addresses, CIDRs and `loopback`/`linklocal`/`uniquelocal`; throws on a bad one. */
    function compile(val: string | string[]): TrustFn;
  }
  export = proxyaddr;
}
