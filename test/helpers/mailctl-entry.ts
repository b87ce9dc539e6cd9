// Runs the CLI from source, as a separate process, exactly as bin/mailctl.js does from dist/.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv, process.env);
