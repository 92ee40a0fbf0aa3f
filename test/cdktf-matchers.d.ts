// Registers the types of the matchers `Testing.setupJest()` installs (see test/helpers-jest-setup.ts).
import "cdktf/lib/testing/adapters/jest";
