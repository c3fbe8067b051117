import yaml from 'js-yaml';
import { loadPolicyObject, mergeUnder, parseYaml } from '../src/policy/load.ts';
const text = `version: 1\n${Array.from({length: 50000}, (_, i) => `k${i}: 1`).join('\n')}\n`;
let t = Date.now(); const obj = yaml.load(text); console.log('jsyaml', Date.now()-t);
t = Date.now(); const m = [obj].reduce((a: any, c: any) => mergeUnder(a, c), {}); console.log('merge', Date.now()-t);
t = Date.now(); const r = loadPolicyObject(m, 'x'); console.log('loadObj', Date.now()-t, r.ok ? 'ok' : r.errors.length);
t = Date.now(); const p = parseYaml(text, 'x'); console.log('parseYaml', Date.now()-t);
t = Date.now(); const r2 = loadPolicyObject(m, p.file, p.locate); console.log('loadObj located', Date.now()-t, r2.ok ? 'ok' : r2.errors.length);
