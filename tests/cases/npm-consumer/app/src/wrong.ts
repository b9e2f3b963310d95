// Mistakes the declarations must catch under --strict (each line is one expected error).
import { on, start } from 'cobrowse-client';

on('ended', ({ token }) => token); // WRONG-1: `ended` carries { reason, detail }, not a token
start({ serverUrl: 8080 }); // WRONG-2: serverUrl is a string
start({ restrictions: [{ selector: '#card', action: 'blur' }] }); // WRONG-3: no such action
start({ serverUrl: 'https://cobrowse.example', buttonPlace: 'left' }); // WRONG-4: unknown option
