// Regenerates an Azure OpenAI account's key through Azure Resource Manager (azure-native has no resource
// for it): a token for the service principal or workload identity, then the account's regenerateKey action.
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { AccountKeys, AzureAccountRef, AzureCredentials, KeyName } from "./provisioner.ts";

/** Regenerates one key of an account and returns both keys as they now are. */
export interface AccountKeyService {
  regenerate(account: AzureAccountRef, key: KeyName, credentials: AzureCredentials): Promise<AccountKeys>;
}

export interface ArmAccountKeysOptions {
  /** Microsoft Entra authority. @default "https://login.microsoftonline.com" */
  authorityHost?: string;
  /** Azure Resource Manager. @default "https://management.azure.com" */
  resourceManager?: string;
  /** The token's scope. @default "https://management.azure.com/.default" */
  scope?: string;
  /** The Cognitive Services management API version. @default "2024-10-01" */
  apiVersion?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per request. @default 30000 */
  timeoutMs?: number;
}

const TokenAnswer = z.object({ access_token: z.string().min(1), token_type: z.string().optional() });
const KeysAnswer = z.object({ key1: z.string().min(1), key2: z.string().min(1) });
const ArmError = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

/** A refused or failed ARM/Entra call; the message names the call and Azure's error code, never a secret. */
export class AzureApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "AzureApiError";
  }
}

/**
 * {@link AccountKeyService} over Azure Resource Manager's REST API.
 *
 * Guarantees: the service principal secret, the federated token and the keys appear only in request
 * bodies and the result, never in an error message.
 * Caveats: a token is fetched per call (rotation is rare); the regenerated key takes effect at once, so
 * callers regenerate the key the app is not using.
 */
export class ArmAccountKeys implements AccountKeyService {
  private readonly authorityHost: string;
  private readonly resourceManager: string;
  private readonly scope: string;
  private readonly apiVersion: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: ArmAccountKeysOptions = {}) {
    this.authorityHost = (options.authorityHost ?? "https://login.microsoftonline.com").replace(/\/$/, "");
    this.resourceManager = (options.resourceManager ?? "https://management.azure.com").replace(/\/$/, "");
    this.scope = options.scope ?? "https://management.azure.com/.default";
    this.apiVersion = options.apiVersion ?? "2024-10-01";
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async regenerate(
    account: AzureAccountRef,
    key: KeyName,
    credentials: AzureCredentials,
  ): Promise<AccountKeys> {
    const token = await this.token(credentials);
    const subscription = account.subscriptionId ?? credentials.subscriptionId;
    const url =
      `${this.resourceManager}/subscriptions/${encodeURIComponent(subscription)}` +
      `/resourceGroups/${encodeURIComponent(account.resourceGroupName)}` +
      `/providers/Microsoft.CognitiveServices/accounts/${encodeURIComponent(account.accountName)}` +
      `/regenerateKey?api-version=${encodeURIComponent(this.apiVersion)}`;
    const answer = await this.call("regenerateKey", url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ keyName: key === "key1" ? "Key1" : "Key2" }),
    });
    const keys = KeysAnswer.safeParse(answer);
    if (!keys.success)
      throw new AzureApiError(200, undefined, "regenerateKey: the answer holds no key1/key2");
    return { primaryKey: keys.data.key1, secondaryKey: keys.data.key2 };
  }

  private async token(credentials: AzureCredentials): Promise<string> {
    const form = new URLSearchParams({
      client_id: credentials.clientId,
      scope: this.scope,
      grant_type: "client_credentials",
    });
    if (credentials.kind === "ServicePrincipal") {
      form.set("client_secret", credentials.clientSecret);
    } else {
      const assertion = (await readFile(credentials.tokenFilePath, "utf8")).trim();
      form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      form.set("client_assertion", assertion);
    }
    const url = `${this.authorityHost}/${encodeURIComponent(credentials.tenantId)}/oauth2/v2.0/token`;
    const answer = await this.call("token", url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const token = TokenAnswer.safeParse(answer);
    if (!token.success) throw new AzureApiError(200, undefined, "token: the answer holds no access_token");
    return token.data.access_token;
  }

  private async call(what: string, url: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const reason = error instanceof Error ? error.name : "network error";
      throw new AzureApiError(0, undefined, `${what}: request failed (${reason})`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const armError = ArmError.safeParse(body);
      const entraCode = z.object({ error: z.string() }).safeParse(body);
      const code = armError.success
        ? armError.data.error.code
        : entraCode.success
          ? entraCode.data.error
          : undefined;
      throw new AzureApiError(
        response.status,
        code,
        `${what}: Azure answered ${response.status}${code ? ` ${code}` : ""}`,
      );
    }
    return body;
  }
}
