/** A failure the person running `flywheel up` can act on: the message says what and where to look. */
export class StackError extends Error {
  override name = 'StackError';
  constructor(
    message: string,
    readonly logFile?: string,
  ) {
    super(message);
  }
}
