import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED, redactText } from "../../operator/log.ts";

/** A logger writing into an array, synchronously. */
function capture(level: "info" | "debug" = "debug") {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const log = createLogger({ level, destination });
  return { log, lines, text: () => lines.join("\n") };
}

// Canary values: each must never appear in output.
const CANARY = {
  apiKey: "sk-proj-CANARYopenaiKEY0123456789abcdef",
  anthropic: "sk-ant-api03-CANARYanthropic0123456789",
  legacyToken: "c4n4ry0legacy0token0000000000000000000000",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlQ0FOQVJZ",
  password: "CANARY-password-hunter2",
  pem: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0CANARYPEMBODY\n-----END PRIVATE KEY-----",
  google: "AIzaSyCANARY0google0key0000000000000000",
  azure: "CANARYazurekey0123456789abcdef00",
  vertexJson: "CANARYvertexPrivateKeyBody",
};
const canaryValues = Object.values(CANARY);

function expectNoCanary(text: string) {
  for (const value of canaryValues) expect(text).not.toContain(value);
  // And no fragment of the PEM body either.
  expect(text).not.toContain("CANARYPEMBODY");
}

describe("createLogger redaction", () => {
  it("censors secret-named keys at any depth and keeps the rest", () => {
    const { log, lines, text } = capture();
    log.info(
      {
        event: "app.request",
        connection: "ml/openai",
        fingerprint: "sha256:3f2a9c1b7e40",
        apiKey: CANARY.apiKey,
        body: {
          provider: "OpenAI",
          api_key: CANARY.apiKey,
          nested: { deeper: { auth_token: CANARY.legacyToken } },
        },
        headers: {
          authorization: `Token ${CANARY.legacyToken}`,
          "x-api-key": CANARY.anthropic,
          "api-key": CANARY.azure,
        },
        credentials: { private_key: CANARY.pem, privateKey: CANARY.pem, password: CANARY.password },
        vertex: { google_application_credentials: `{"private_key":"${CANARY.vertexJson}"}` },
        list: [{ token: CANARY.jwt }],
      },
      "request sent",
    );
    expectNoCanary(text());
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({
      level: "info",
      event: "app.request",
      connection: "ml/openai",
      fingerprint: "sha256:3f2a9c1b7e40",
      apiKey: REDACTED,
      body: { provider: "OpenAI", api_key: REDACTED, nested: { deeper: { auth_token: REDACTED } } },
      headers: { authorization: REDACTED, "x-api-key": REDACTED, "api-key": REDACTED },
      list: [{ token: REDACTED }],
      msg: "request sent",
    });
  });

  it("scrubs messages, interpolation arguments and child bindings", () => {
    const { log, text } = capture();
    log.warn(`app said 401 for Authorization: Bearer ${CANARY.jwt}`);
    log.warn("retrying with %s", `Token ${CANARY.legacyToken}`);
    log
      .child({ authorization: `Bearer ${CANARY.jwt}`, connection: "ml/x" })
      .info({ event: "x" }, "child line");
    log
      .child({ connection: "ml/y" })
      .child({ token: CANARY.legacyToken, note: `Bearer ${CANARY.jwt}` })
      .info("grandchild line");
    expectNoCanary(text());
    expect(text()).toContain("ml/y");
    expect(text()).toContain("ml/x");
  });

  it("scrubs error messages, stacks and causes", () => {
    const { log, lines, text } = capture();
    const cause = new Error(`upstream rejected key ${CANARY.anthropic}`);
    const err = Object.assign(
      new Error(`request failed: api_key=${CANARY.apiKey} header Bearer ${CANARY.jwt}`),
      {
        code: "ECONNRESET",
        cause,
      },
    );
    log.error({ err, event: "reconcile.failed" }, "reconcile failed");
    log.error(err);
    expectNoCanary(text());
    const line = JSON.parse(lines[0] as string);
    expect(line.err.code).toBe("ECONNRESET");
    expect(line.err.message).toContain("request failed");
  });

  it("never shows the data of a logged Secret", () => {
    const { log, text } = capture();
    log.debug({
      secret: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "openai", namespace: "ml" },
        data: { "api-key": Buffer.from(CANARY.apiKey).toString("base64") },
        stringData: { other: CANARY.password },
      },
    });
    expectNoCanary(text());
    expect(text()).not.toContain(Buffer.from(CANARY.apiKey).toString("base64"));
    expect(text()).toContain('"name":"openai"');
  });

  it("survives circular objects", () => {
    const { log, text } = capture();
    const a: Record<string, unknown> = { token: CANARY.legacyToken };
    a.self = a;
    log.info({ a });
    expectNoCanary(text());
  });
});

describe("redactText", () => {
  it.each([
    [`Authorization: Bearer ${CANARY.jwt}`, "Bearer [REDACTED]"],
    [`Authorization: Token ${CANARY.legacyToken}`, "Token [REDACTED]"],
    [`jwt ${CANARY.jwt} here`, "jwt [REDACTED] here"],
    [`key ${CANARY.apiKey}.`, "key [REDACTED]."],
    [`key ${CANARY.anthropic}`, "key [REDACTED]"],
    [`google ${CANARY.google}`, "google [REDACTED]"],
    [`a ${CANARY.pem} b`, "a [REDACTED] b"],
    [`{"private_key":"${CANARY.pem.replaceAll("\n", "\\n")}"}`, '{"private_key":"[REDACTED]"}'],
    [`api-key=${CANARY.azure}&x=1`, "api-key=[REDACTED]&x=1"],
    [`{"password": "${CANARY.password}"}`, '{"password": "[REDACTED]"}'],
    [`https://user:${CANARY.password}@example.com/x`, "https://user:[REDACTED]@example.com/x"],
  ])("scrubs %j", (input, expected) => {
    const out = redactText(input);
    expect(out).toContain(expected);
    for (const value of canaryValues) expect(out).not.toContain(value);
  });

  it.each([
    "connection ml/openai synced, fingerprint sha256:3f2a9c1b7e40",
    "the refresh token expired at noon",
    "GET /api/model-provider-connections/17 → 404",
  ])("leaves ordinary text alone: %j", (input) => {
    expect(redactText(input)).toBe(input);
  });
});
