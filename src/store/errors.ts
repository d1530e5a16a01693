// Typed errors of the run history store.

/** Base class: the run history store could not be opened, read or written. */
export class StoreError extends Error {
  override name = "StoreError";
  /** The database file. */
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.file = file;
  }
}

/** The database was written by a newer Driftwatch; it is left untouched. */
export class StoreSchemaError extends StoreError {
  override name = "StoreSchemaError";
  readonly databaseVersion: number;
  readonly knownVersion: number;
  constructor(file: string, databaseVersion: number, knownVersion: number) {
    super(file, `database at ${file} has schema version ${databaseVersion}, this Driftwatch knows up to ${knownVersion}`);
    this.databaseVersion = databaseVersion;
    this.knownVersion = knownVersion;
  }
}

/** A run could not be recorded (nothing of it was written). */
export class StoreWriteError extends StoreError {
  override name = "StoreWriteError";
  readonly runId: string;
  constructor(file: string, runId: string, message: string, options?: ErrorOptions) {
    super(file, `could not record run ${runId} in ${file}: ${message}`, options);
    this.runId = runId;
  }
}
