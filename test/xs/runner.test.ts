// startFirmware() runs the same firmware entry on either engine; here a small firmware (a blinking
// LED and a button, ./fixtures/blink.ts) is driven through the World's pins and NVS on both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ENGINES, built, sleep, start, until } from "./engines.js";
import { World } from "../../tools/sim/world.js";

for (const engine of ENGINES) {
  test(`a firmware entry blinks, counts button presses in NVS, and pauses on ${engine}`, async () => {
    const world = new World();
    world.nvs.open("app", true);
    world.nvs.set("app", "presses", { type: "i32", value: 4 });
    let toggles = 0;
    world.gpio.onChange(2, () => toggles++);
    const fw = await start(engine, { world, entry: built("test/xs/fixtures/blink.js") });
    try {
      assert.equal(world.gpio.mode(2), "output");
      await until(() => toggles >= 4);
      world.gpio.drive(0, 0); // press: the pull-up line goes low
      await until(() => {
        const stored = world.nvs.get("app", "presses", "i32");
        return typeof stored !== "string" && stored.value === 5;
      });
      await sleep(5);
      const paused = toggles;
      await sleep(40);
      assert.equal(toggles, paused, "blinking paused after an odd number of presses");
      world.gpio.drive(0, 1); // release
      world.gpio.drive(0, 0); // press again: resume
      await until(() => toggles >= paused + 3);
      const stored = world.nvs.get("app", "presses", "i32");
      assert.deepEqual(stored, { type: "i32", value: 6 });
    } finally {
      await fw.stop();
    }
  });
}

test("two XS firmwares run side by side, each in its own World", async () => {
  const worlds = [new World(), new World()];
  const counts = [0, 0];
  worlds.forEach((w, i) => w.gpio.onChange(2, () => counts[i]++));
  const fws = await Promise.all(worlds.map((world) => start("xs", { world, entry: built("test/xs/fixtures/blink.js") })));
  try {
    await until(() => counts[0] >= 3 && counts[1] >= 3);
    worlds[0].gpio.drive(0, 0);
    await until(() => {
      const stored = worlds[0].nvs.get("app", "presses", "i32");
      return typeof stored !== "string" && stored.value === 1;
    });
    assert.equal(worlds[1].nvs.get("app", "presses", "i32"), "ESP_ERR_NVS_NOT_FOUND");
  } finally {
    await Promise.all(fws.map((fw) => fw.stop()));
  }
});
