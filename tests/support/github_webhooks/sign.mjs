// Signs each body read from standard input (a JSON list of {secret, body}) with
// @octokit/webhooks-methods, and writes the signatures as a JSON list.
import { sign } from "@octokit/webhooks-methods";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const signatures = [];
for (const { secret, body } of JSON.parse(input)) {
  signatures.push(await sign(secret, body));
}
process.stdout.write(JSON.stringify(signatures));
