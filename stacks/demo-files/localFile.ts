// A Pulumi dynamic provider that manages one file on the local disk. Small, but a complete provider:
// create, read (for refresh: returns both the observed props and the inputs they imply), diff, update, delete.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";

export interface LocalFileArgs {
  /** Absolute path of the file. Changing it replaces the resource. */
  path: pulumi.Input<string>;
  content: pulumi.Input<string>;
}

interface LocalFileState {
  path: string;
  content: string;
}

const localFileProvider: pulumi.dynamic.ResourceProvider<LocalFileState, LocalFileState> = {
  async create(inputs) {
    fs.mkdirSync(path.dirname(inputs.path), { recursive: true });
    fs.writeFileSync(inputs.path, inputs.content);
    return { id: inputs.path, outs: { path: inputs.path, content: inputs.content } };
  },

  async read(id) {
    let content: string;
    try {
      content = fs.readFileSync(id, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {}; // gone: refresh reports a delete
      throw error;
    }
    const state = { path: id, content };
    return { id, props: state, inputs: state };
  },

  async diff(_id, olds, news) {
    const replaces = olds.path !== news.path ? ["path"] : [];
    const changes = replaces.length > 0 || olds.content !== news.content;
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id, _olds, news) {
    fs.writeFileSync(news.path, news.content);
    return { outs: { path: news.path, content: news.content } };
  },

  async delete(id) {
    fs.rmSync(id, { force: true });
  },
};

export class LocalFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;

  constructor(name: string, args: LocalFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(localFileProvider, name, { path: args.path, content: args.content }, opts);
  }
}
