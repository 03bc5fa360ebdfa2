// `npm run docs:config`: rewrites the generated tables of docs/configuration.md from the config schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '@techsapo/config';

const file = new URL('../docs/configuration.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const updated = doc.replace(
  /(<!-- config-reference:start -->\n)[\s\S]*?(<!-- config-reference:end -->)/,
  `$1${configReference()}\n$2`,
);
writeFileSync(file, updated);
console.log(updated === doc ? 'docs/configuration.md is up to date' : 'docs/configuration.md updated');
