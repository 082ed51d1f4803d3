/** A request the API refuses: the status to answer with and the `error` text, which names the parameter at fault. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
