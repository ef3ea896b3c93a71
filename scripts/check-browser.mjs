// `npm test` includes the browser tests; say how to get the browser before anything else runs.
import { accessSync, constants } from 'node:fs'

const chromium = process.env.AMALGAM_CHROMIUM ?? '/usr/bin/chromium'
try {
  accessSync(chromium, constants.X_OK)
} catch {
  console.error(
    `The browser tests need Chromium at ${chromium}.\n` +
      '  Debian/Ubuntu: sudo apt-get install -y chromium\n' +
      '  elsewhere: set AMALGAM_CHROMIUM to a Chromium or Chrome executable.',
  )
  process.exit(1)
}
