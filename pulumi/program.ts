// Entry point of the Pulumi.yaml program (runtime nodejs, loaded through tsx): builds the account from
// stack configuration. The operator uses the same component through the Automation API instead.
import { stackProgram } from "./stack-program.ts";

export default stackProgram;
