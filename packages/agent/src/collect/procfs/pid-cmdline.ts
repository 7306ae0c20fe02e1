/** /proc/<pid>/cmdline: NUL-separated arguments. */
export function parseCmdline(text: string): string[] {
  const args = text.split('\0');
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return args;
}
