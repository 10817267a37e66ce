export { save, load, readSafetensors, type SafetensorsFile } from './safetensors.js';
