import { configTable } from '../config/table.js';

// `npm run docs:config`: prints the configuration table to paste into the README (a test checks they match).
process.stdout.write(`${configTable()}\n`);
