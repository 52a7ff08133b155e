// The public addresses Label Studio Enterprise calls model providers from: the one place they are written.
// A fact about the app, not about Kubernetes or Azure, so it lives outside crds/, operator/ and pulumi/, and
// each of them (CRD descriptions, provider messages, network rules) reads it from here.

/** The app's egress addresses; an Azure OpenAI account that denies by default must allow all three. */
export const APP_ADDRESSES = ["3.219.3.197", "34.237.73.3", "44.216.17.242"] as const;
export type AppAddress = (typeof APP_ADDRESSES)[number];
