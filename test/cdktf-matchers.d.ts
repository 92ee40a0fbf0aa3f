// Registers the types of the matchers `Testing.setupJest()` installs (see test/setup.ts).
import "cdktf/lib/testing/adapters/jest";
