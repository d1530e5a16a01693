// moto is real: the provisioned server answers the real AWS SDK on a loopback port.
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.ts";
import { testToolchain } from "../support/toolchain.ts";

describe("moto server", () => {
  let moto: MotoServer;
  beforeAll(async () => {
    const { manifest } = testToolchain();
    if (!manifest.moto) throw new Error("toolchain was provisioned without moto");
    moto = await startMoto(manifest.moto.python);
  });
  afterAll(async () => moto?.stop());

  it("creates and reads an S3 bucket through @aws-sdk/client-s3", async () => {
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await s3.send(new CreateBucketCommand({ Bucket: "driftwatch-smoke" }));
    await s3.send(new PutObjectCommand({ Bucket: "driftwatch-smoke", Key: "state.json", Body: '{"ok":true}' }));

    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain("driftwatch-smoke");
    const object = await s3.send(new GetObjectCommand({ Bucket: "driftwatch-smoke", Key: "state.json" }));
    expect(await object.Body?.transformToString()).toBe('{"ok":true}');
    s3.destroy();
  });
});
