@_exported import KeelCore
@_exported import KeelOps
@_exported import KeelSettings
@_exported import KeelData
@_exported import KeelSecurity
@_exported import KeelAuth
@_exported import KeelKernel
@_exported import KeelWeb
