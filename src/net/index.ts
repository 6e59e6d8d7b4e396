/** The Transport port and its implementations (TCP over node:net, the in-memory simulated network). */
export * as Framed from "./Framed.js"
export * as Memory from "./Memory.js"
export * as Tcp from "./Tcp.js"
export * as Transport from "./Transport.js"
