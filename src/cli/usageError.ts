/** Bad command-line input: printed with the usage line and exit code 2, never a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The work is another process's for now (a session it is running): nothing is wrong, and later the command succeeds. */
export class BusyElsewhereError extends Error {
  override readonly name = 'BusyElsewhereError';
}
