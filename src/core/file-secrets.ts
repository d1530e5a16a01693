// Secret values kept in a file the service reads (a kubeconfig and the token files it names, an AWS credentials
// file), as a SecretSource for the masker: read when first asked, and again whenever one of the files it read
// changed (inode, size, modification or change time: an edit, an atomic rename, a Secret volume's symlink swap).
// A file that cannot be read keeps the values it last had: a token gone from disk is still masked.
import { statSync } from "node:fs";
import type { SecretSource } from "./redact.ts";

export interface FileSecretValues {
  secrets: string[];
  /** Other files the values were read from (a token file a kubeconfig names): a change of them is a change too. */
  files: string[];
}

/** What a file looks like to stat: changes whenever its content may have changed. */
function stamp(file: string): string {
  try {
    const s = statSync(file, { throwIfNoEntry: false });
    return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : "none";
  } catch {
    return "unreadable";
  }
}

export class FileSecrets implements SecretSource {
  readonly file: string;
  readonly #read: (file: string) => FileSecretValues;
  #files: string[] = [];
  #stamps: string | undefined;
  #values: readonly string[] = [];

  /** `read` reads `file` (and what it names) and returns its secret values; it throws when `file` cannot be read. */
  constructor(file: string, read: (file: string) => FileSecretValues) {
    this.file = file;
    this.#read = read;
  }

  current(): readonly string[] {
    const files = [this.file, ...this.#files];
    const before = files.map(stamp).join("|");
    if (before === this.#stamps) return this.#values;
    try {
      const read = this.#read(this.file);
      // The file's stamp from before the read: a change during it is seen by the next question.
      this.#stamps = [before.split("|")[0], ...read.files.map(stamp)].join("|");
      this.#files = read.files;
      const values = [...new Set(read.secrets)].sort();
      if (values.length !== this.#values.length || values.some((v, i) => v !== this.#values[i])) this.#values = values;
    } catch {
      this.#stamps = before;
    }
    return this.#values;
  }
}
