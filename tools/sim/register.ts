// `node --import <dist>/tools/sim/register.js app.js` runs firmware/ on Node: it registers the
// hooks that map `embedded:*`, `timer` and `preference` to the simulator's shims. A program must
// still make a World current (setWorld in ./world.js) before firmware touches any IO.
import { register } from "node:module";

register("./node-hooks.js", import.meta.url);
