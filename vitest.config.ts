import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"], testTimeout: 20_000 },
      },
      {
        // Real engine, real registry: one file at a time, generous timeouts.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 900_000,
          // The first file to run builds the family's base images (and its own) from nothing:
          // about 20 minutes on 2 cores, which a hook must be allowed.
          hookTimeout: 2_400_000,
          fileParallelism: false,
        },
      },
      {
        // The nightly run beside `kiln verify --all` (hack/nightly.sh): end-to-end files whose
        // builds take longer than CI's budget allows (BuildKit compiled from source, engines).
        test: {
          name: "nightly",
          include: ["test/nightly/**/*.test.ts"],
          testTimeout: 1_800_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
