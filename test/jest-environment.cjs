// The package's own Jest environment (nestjs-blazerpc/testing/jest-environment), as users configure it.
module.exports = require('../lib/testing/jest-environment.cjs');
