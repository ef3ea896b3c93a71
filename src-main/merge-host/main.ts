// The merge host process: started by the main process (utilityProcess in the desktop app,
// child_process.fork under `amalgam serve`) so a merge can be killed without taking the app down.
import { runRecipe } from '../engine/execute/run-recipe'
import { parentChannel } from './channel'
import { serveHost } from './host-loop'

serveHost(parentChannel(), runRecipe)
