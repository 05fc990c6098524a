import {
  createKernelsChooser,
  decideKernels,
  type NativeBinding,
  NativeKernels,
} from "sluice/advanced";
import { describe, expect, it } from "vitest";
import { requireNativeBinding } from "./native-binding.js";

describe("kernel loader", () => {
  it("picks the native kernels when the addon loads", () => {
    const choice = decideKernels({ env: {}, loadBinding: requireNativeBinding });
    expect(choice.kernels.kind).toBe("native");
    expect(choice.reason).toContain("@sluice/native");
  });

  it("falls back to the TypeScript twin when the addon does not load, saying why", () => {
    const choice = decideKernels({
      env: {},
      loadBinding: () => {
        throw new Error(
          "Cannot find module 'sluice-native.linux-x64-gnu.node'\nRequire stack: ...",
        );
      },
    });
    expect(choice.kernels.kind).toBe("js");
    expect(choice.reason).toBe(
      "TypeScript kernels (@sluice/native did not load: Cannot find module 'sluice-native.linux-x64-gnu.node')",
    );
  });

  it("honours SLUICE_FORCE_JS=1 without touching the addon", () => {
    let loaded = false;
    const choice = decideKernels({
      env: { SLUICE_FORCE_JS: "1" },
      loadBinding: () => {
        loaded = true;
        return requireNativeBinding();
      },
    });
    expect(choice.kernels.kind).toBe("js");
    expect(loaded).toBe(false);
  });

  it("decides and logs once per chooser", () => {
    const lines: string[] = [];
    const choose = createKernelsChooser();
    const first = choose({
      env: {},
      loadBinding: requireNativeBinding,
      log: (line) => lines.push(line),
    });
    const second = choose({ env: { SLUICE_FORCE_JS: "1" }, log: (line) => lines.push(line) });
    expect(second).toBe(first);
    expect(lines).toEqual(["native kernels (@sluice/native)"]);
  });

  it("sends small reduceByKey batches to the TypeScript twin with the same results", () => {
    const calls: string[] = [];
    const binding = requireNativeBinding();
    const counting = {
      ...binding,
      reduceByKeyI64: (...args: Parameters<NativeBinding["reduceByKeyI64"]>) => {
        calls.push("native");
        return binding.reduceByKeyI64(...args);
      },
    } as NativeBinding;
    const kernels = new NativeKernels(counting, { jsBelowRows: 4 });
    const small = kernels.reduceByKeyI64(
      BigInt64Array.of(1n, 2n, 1n),
      Float64Array.of(1, 2, 3),
      "sum",
    );
    expect(calls).toEqual([]);
    const large = kernels.reduceByKeyI64(
      BigInt64Array.of(1n, 2n, 1n, 3n),
      Float64Array.of(1, 2, 3, 4),
      "sum",
    );
    expect(calls).toEqual(["native"]);
    expect(Array.from(small.values)).toEqual([4, 2]);
    expect(Array.from(large.values)).toEqual([4, 2, 4]);
  });
});
