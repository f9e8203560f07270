// A periodic task that does not keep the process alive and whose failures are reported, not thrown.
export function every(ms: number, task: () => Promise<unknown>, onError: (source: string, err: unknown) => void, source = 'periodic'): NodeJS.Timeout {
  const t = setInterval(() => void task().catch((err) => onError(source, err)), ms);
  t.unref();
  return t;
}
