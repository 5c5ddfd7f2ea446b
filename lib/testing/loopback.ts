/** Whether a host is a loopback address (the only ones the test server binds to or forwards to). */
export function isLoopback(host: string): boolean {
  return host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
