// The supported-models catalogue: the shipped data, and run-time overrides (replace, edit, errors).
import { describe, expect, it } from "vitest";
import {
  CatalogueError,
  loadCatalogue,
  SHIPPED_CATALOGUE,
  supportedModels,
} from "../../operator/providers/catalogue.ts";

describe("shipped catalogue", () => {
  it("is versioned and holds the app's whitelist", () => {
    expect(SHIPPED_CATALOGUE.version).toMatch(/\S/);
    expect(SHIPPED_CATALOGUE.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(supportedModels(SHIPPED_CATALOGUE, "OpenAI")).toContain("gpt-4o");
    expect(supportedModels(SHIPPED_CATALOGUE, "OpenAI")).toHaveLength(13);
    expect(supportedModels(SHIPPED_CATALOGUE, "Gemini")).toHaveLength(6);
    expect(supportedModels(SHIPPED_CATALOGUE, "VertexAI")).toHaveLength(5);
    expect(supportedModels(SHIPPED_CATALOGUE, "Anthropic")).toEqual([
      "claude-3-5-haiku-latest",
      "claude-3-5-sonnet-latest",
      "claude-3-7-sonnet-latest",
    ]);
    expect(supportedModels(SHIPPED_CATALOGUE, "AzureOpenAI")).toBeUndefined();
    expect(SHIPPED_CATALOGUE.providers.AzureOpenAI.perDeployment).toBe("chat");
  });

  it("without an override (or an empty one) is what loadCatalogue returns", () => {
    expect(loadCatalogue()).toBe(SHIPPED_CATALOGUE);
    expect(loadCatalogue("  \n")).toBe(SHIPPED_CATALOGUE);
  });
});

describe("catalogue override", () => {
  it("replaces one provider's list (YAML) and keeps the others", () => {
    const catalogue = loadCatalogue("providers:\n  OpenAI:\n    models: [gpt-5, gpt-4o]\n");
    expect(catalogue.providers.OpenAI.models).toEqual(["gpt-5", "gpt-4o"]);
    expect(catalogue.providers.Gemini).toEqual(SHIPPED_CATALOGUE.providers.Gemini);
    expect(catalogue.version).toBe(`${SHIPPED_CATALOGUE.version}+override`);
  });

  it("edits a list with add/remove (JSON), without duplicates, and takes the override's version", () => {
    const catalogue = loadCatalogue(
      JSON.stringify({
        version: "2027.01.1",
        updated: "2027-01-05",
        providers: {
          Anthropic: {
            add: ["claude-sonnet-4-5", "claude-3-7-sonnet-latest"],
            remove: ["claude-3-5-haiku-latest"],
          },
        },
      }),
    );
    expect(catalogue.providers.Anthropic.models).toEqual([
      "claude-3-5-sonnet-latest",
      "claude-3-7-sonnet-latest",
      "claude-sonnet-4-5",
    ]);
    expect(catalogue.version).toBe("2027.01.1");
    expect(catalogue.updated).toBe("2027-01-05");
  });

  it("accepts a whole copy of the shipped file", () => {
    const catalogue = loadCatalogue(JSON.stringify(SHIPPED_CATALOGUE));
    expect(catalogue.providers).toEqual(SHIPPED_CATALOGUE.providers);
  });

  it.each([
    [
      "providers:\n  OpenAI:\n    models: [gpt-4o, 7, '']\n",
      ["providers.OpenAI.models[1]", "providers.OpenAI.models[2]"],
    ],
    ["providers:\n  OpenAi:\n    models: [gpt-4o]\n", ["providers", "OpenAi"]],
    ["providers:\n  Gemini:\n    models: [a]\n    add: [b]\n", ["providers.Gemini", "not both"]],
    ["updated: yesterday\nproviders: {}\n", ["updated"]],
    ["providers:\n  AzureOpenAI:\n    perDeployment: some\n", ["providers.AzureOpenAI.perDeployment"]],
    ["models: [gpt-4o]\n", ["(root)", "models", "providers"]],
    ["providers:\n  OpenAI:\n    models: [gpt 4o]\n", ["providers.OpenAI.models[0]", "whitespace"]],
  ])("names the offending field: %j", (text, fragments) => {
    let error: unknown;
    try {
      loadCatalogue(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CatalogueError);
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
  });

  it("text that is not YAML or JSON is a CatalogueError", () => {
    expect(() => loadCatalogue("providers: [unclosed")).toThrow(CatalogueError);
  });
});
